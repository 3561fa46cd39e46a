-- wrk script: replay a file of pre-signed raw HTTP requests, one a line (CRLF stored as TAB),
-- each sent once (the file starts over only if it runs out). Prints one JSON summary line.
local reqs = {}
local n = 0
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    n = n + 1
    reqs[n] = (line:gsub("\t", "\r\n"))
  end
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"status":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
