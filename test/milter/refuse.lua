-- refuse.lua - a message answered with an SMTP error at end of data and
-- changed in no way.  Globals (-D): eml, code, dsn, text (the verdict
-- table's reply text).
local h = dofile(srcdir .. "/test/milter/common.lua")
local conn = h.open()
h.send(conn, eml)
h.check(h.replied(conn, code, dsn, text), "reply is not " .. code .. " " .. dsn .. " " .. text)
h.check(not mt.eom_check(conn, MT_HDRADD), "a header was added")
h.check(not mt.eom_check(conn, MT_HDRCHANGE), "a header was changed")
h.check(not mt.eom_check(conn, MT_BODYCHANGE), "the body was replaced")
mt.disconnect(conn)
