-- outcome.lua - one message, and only the kind of answer it got: prints
-- "outcome: accepted", "outcome: CODE" when the reply is CODE DSN TEXT
-- (given with -D), "outcome: other reply" or "outcome: tempfail".
-- Globals (-D): eml, qid, and optionally code, dsn, text.
local h = dofile(srcdir .. "/test/milter/common.lua")
local conn = h.open()
h.send(conn, eml)
local reply = mt.getreply(conn)
if reply == SMFIR_CONTINUE or reply == SMFIR_ACCEPT then
  print("outcome: accepted")
elseif reply == SMFIR_REPLYCODE and code and mt.eom_check(conn, MT_SMTPREPLY, code, dsn, text) then
  print("outcome: " .. code)
elseif reply == SMFIR_TEMPFAIL then
  print("outcome: tempfail")
else
  print("outcome: other reply " .. tostring(reply))
end
mt.disconnect(conn)
