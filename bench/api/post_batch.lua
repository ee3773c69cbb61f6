-- wrk script: POST /packets with a JSON array of BATCH NetWatch packets (default 1000).
-- The body is built once; every request stores BATCH more packets.
local batch = tonumber(os.getenv("BATCH") or "1000")
local now = os.time() - 5
local items = {}
for i = 1, batch do
  local proto = ({"TCP", "TCP", "UDP", "ICMP"})[(i % 4) + 1]
  items[i] = string.format(
    '{"timestamp":%d,"src_ip":"10.1.%d.%d","dst_ip":"192.168.0.%d","protocol":"%s","packet_size":%d,"src_port":%d,"dst_port":443}',
    now, math.floor(i / 250) % 256, i % 250, i % 200, proto, 60 + (i * 7) % 1400, 1024 + i)
end
wrk.method = "POST"
wrk.body = "[" .. table.concat(items, ",") .. "]"
wrk.headers["Content-Type"] = "application/json"
