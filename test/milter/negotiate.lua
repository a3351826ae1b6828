-- negotiate.lua - an MTA that cannot replace the body gets no session:
-- the milter refuses at option negotiation (Postfix would then apply
-- milter_default_action = tempfail).  The session it accepts asks for "no
-- reply" on exactly the steps that only record (their errors are answered at
-- end of message: test/milter.py, "spool directory missing"), never on a
-- step that decides.
local h = dofile(srcdir .. "/test/milter/common.lua")
local conn = mt.connect(sock, 20, 0.25)
h.check(conn ~= nil, "cannot connect")
-- (miltertest's argument order: version, protocol steps, actions)
h.check(mt.negotiate(conn, nil, nil, SMFIF_ADDHDRS | SMFIF_CHGHDRS) ~= nil,
        "negotiation without SMFIF_CHGBODY succeeded")
conn = mt.connect(sock, 20, 0.25)
h.check(mt.negotiate(conn, nil, nil, nil) == nil, "full negotiation failed")
for _, f in ipairs({ SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_CHGBODY }) do
  h.check(mt.test_action(conn, f), "required action not requested")
end
for _, f in ipairs({ SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_MAIL, SMFIP_NR_RCPT, SMFIP_NR_EOH,
                     SMFIP_NR_BODY, SMFIP_NR_HDR }) do
  h.check(mt.test_option(conn, f), "a recording step was not made no-reply")
end
-- DATA and unknown commands are not asked for at all
for _, f in ipairs({ SMFIP_NODATA, SMFIP_NOUNKNOWN }) do
  h.check(mt.test_option(conn, f), "an unused step was asked for")
end
mt.disconnect(conn)
