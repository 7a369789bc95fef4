-- wrk: send the signed-in session's cookie (BENCH_COOKIE) with every request, if given.
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
  wrk.headers["Cookie"] = "claims_portal_session=" .. cookie
end
