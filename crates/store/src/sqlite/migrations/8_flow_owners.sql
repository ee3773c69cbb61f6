-- Migration 8: the process owning each end of a flow (socket attribution). For each end,
-- the pid and comm (NULL when unknown), why it is unknown (`not_local`, `not_seen`,
-- `no_process`; NULL when known or when no attribution ran), and the whole owner as JSON
-- (exe, user, uid, cgroup, container). Indexed by pid for GET /processes/{pid}.

ALTER TABLE flows ADD COLUMN orig_pid INTEGER;
ALTER TABLE flows ADD COLUMN orig_comm TEXT;
ALTER TABLE flows ADD COLUMN orig_unknown TEXT;
ALTER TABLE flows ADD COLUMN orig_owner TEXT;
ALTER TABLE flows ADD COLUMN resp_pid INTEGER;
ALTER TABLE flows ADD COLUMN resp_comm TEXT;
ALTER TABLE flows ADD COLUMN resp_unknown TEXT;
ALTER TABLE flows ADD COLUMN resp_owner TEXT;
CREATE INDEX flows_orig_pid ON flows(orig_pid, last_seen) WHERE orig_pid IS NOT NULL;
CREATE INDEX flows_resp_pid ON flows(resp_pid, last_seen) WHERE resp_pid IS NOT NULL;
