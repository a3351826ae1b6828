-- discard.lua - a suspect message under [policy] on_suspect = discard:
-- answered SMFIR_DISCARD at end of data (Postfix accepts and drops it) and
-- changed in no way.  Globals (-D): eml, qid.
local h = dofile(srcdir .. "/test/milter/common.lua")
local conn = h.open()
h.send(conn, eml)
h.check(mt.getreply(conn) == SMFIR_DISCARD, "reply is not discard")
h.check(not mt.eom_check(conn, MT_HDRADD), "a header was added")
h.check(not mt.eom_check(conn, MT_HDRCHANGE), "a header was changed")
h.check(not mt.eom_check(conn, MT_BODYCHANGE), "the body was replaced")
mt.disconnect(conn)
