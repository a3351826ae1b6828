-- lonecr.lua - a header the MTA keeps, with a lone CR hiding a
-- "Content-Type:" after it (a line end to some clients): the milter changes
-- it to the value with a blank for the CR, as the rebuilt text has it.
-- Globals (-D): eml, qid, header (name), value (the expected new value).
local h = dofile(srcdir .. "/test/milter/common.lua")
local conn = h.open()
h.send(conn, eml)
local reply = mt.getreply(conn)
h.check(reply == SMFIR_CONTINUE or reply == SMFIR_ACCEPT, "not accepted: " .. tostring(reply))
h.check(mt.eom_check(conn, MT_HDRCHANGE, header, " " .. value), header .. " not changed to '" .. value .. "'")
h.check(h.added(conn, "Content-Type") == "text/plain; charset=utf-8", "Content-Type not added")
mt.disconnect(conn)
