-- wrk script: POST /packets with one NetWatch packet per request (keep-alive), as
-- NetWatch's agent sends them.
wrk.method = "POST"
wrk.body = string.format(
  '{"timestamp":%d,"src_ip":"10.2.0.1","dst_ip":"192.168.0.1","protocol":"TCP","packet_size":60}',
  os.time() - 5)
wrk.headers["Content-Type"] = "application/json"
