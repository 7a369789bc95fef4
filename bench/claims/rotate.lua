-- wrk: each request is the next (session cookie, path) line of BENCH_PATHS (a file of
-- "cookie<TAB>path" lines, written by bench/load.py), round and round; an empty cookie
-- sends none. Each wrk thread starts at its own place in the list.
local lines = {}
local position = 0

function init(args)
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    local cookie, path = line:match("^([^\t]*)\t(.+)$")
    if path then
      lines[#lines + 1] = { cookie = cookie, path = path }
    end
  end
  position = (tonumber(os.getenv("BENCH_OFFSET") or "0") or 0) % #lines
end

function request()
  position = position % #lines + 1
  local line = lines[position]
  local headers = {}
  if line.cookie ~= "" then
    headers["Cookie"] = "claims_portal_session=" .. line.cookie
  end
  return wrk.format("GET", line.path, headers)
end
