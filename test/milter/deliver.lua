-- deliver.lua - a message that is delivered: its MIME headers are replaced,
-- X-Mugai-Status added and the body is the one `mugai sanitize` builds.
-- Globals (-D): eml, template (expected text), chunk (body piece size),
-- verdict (first word of X-Mugai-Status), deleted (comma-separated
-- "Name" or "Name/index" that must be deleted), subject (new Subject value, optional), count
-- (messages sent on the one connection, default 1).
local h = dofile(srcdir .. "/test/milter/common.lua")
local conn = h.open()
for n = 1, tonumber(count or 1) do
  h.send(conn, eml, qid .. (n > 1 and tostring(n) or ""))
  local reply = mt.getreply(conn)
  h.check(reply == SMFIR_CONTINUE or reply == SMFIR_ACCEPT, "message " .. n .. " not accepted: " .. tostring(reply))
  for item in (deleted or ""):gmatch("[^,]+") do   -- "Name" or "Name/index"
    local name, idx = item:match("^([^/]+)/?(%d*)$")
    local ok = idx == "" and mt.eom_check(conn, MT_HDRDELETE, name)
               or idx ~= "" and mt.eom_check(conn, MT_HDRDELETE, name, tonumber(idx))
    h.check(ok, item .. " not deleted")
  end
  h.check(h.added(conn, "MIME-Version") == "1.0", "MIME-Version not added")
  h.check(h.added(conn, "Content-Type") == "text/plain; charset=utf-8", "Content-Type not added")
  h.check(h.added(conn, "Content-Transfer-Encoding") == "base64", "Content-Transfer-Encoding not added")
  local status = h.added(conn, "X-Mugai-Status") or ""
  h.check(status:find("^" .. verdict .. "; removed=") ~= nil, "X-Mugai-Status is '" .. status .. "'")
  h.check(mt.getheader(conn, "X-Mugai-Status", 1) == nil, "X-Mugai-Status added twice")
  if subject then
    h.check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", " " .. subject), "Subject not changed to " .. subject)
  else
    h.check(not mt.eom_check(conn, MT_HDRCHANGE, "Subject"), "Subject changed")
  end
  h.expect_body(conn, template, chunk)
end
mt.disconnect(conn)
