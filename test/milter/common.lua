-- common.lua - what every mugai-milter protocol test repeats: connect,
-- HELO, a message from an .eml file, and checks on the end-of-message
-- requests.  Loaded with dofile() by test/milter/*.lua; test/milter.py
-- passes the globals with miltertest -D:
--   sock     milter socket spec          srcdir  source tree
--   qid      queue ID sent as macro {i}  eml     message file (for send.lua)
local M = {}

-- Fail the script (miltertest exits non-zero) with a message.
function M.check(cond, what)
  if not cond then
    error(what, 2)
  end
end

-- A connection up to HELO, from a fixed client address.
function M.open()
  local conn = mt.connect(sock, 20, 0.25)
  M.check(conn ~= nil, "cannot connect to " .. sock)
  mt.set_timeout(60)
  M.check(mt.conninfo(conn, "mail.example.co.jp", "192.0.2.7") == nil, "conninfo failed")
  M.check(mt.getreply(conn) == SMFIR_CONTINUE, "connect not continued")
  M.check(mt.helo(conn, "mail.example.co.jp") == nil, "helo failed")
  M.check(mt.getreply(conn) == SMFIR_CONTINUE, "helo not continued")
  return conn
end

-- Header fields and body of an .eml file (LF or CRLF), as Postfix hands
-- them to a milter: folded lines joined with LF, the one blank after the
-- colon dropped (miltertest puts it back when the milter negotiated
-- SMFIP_HDR_LEADSPC, as mugai-milter does), the body with CRLF.
function M.read_eml(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a"):gsub("\r\n", "\n")
  f:close()
  local head, body = text:match("^(.-)\n\n(.*)$")
  if not head then
    head, body = text, ""
  end
  local headers = {}
  for line in (head .. "\n"):gmatch("(.-)\n") do
    if line:match("^[ \t]") and #headers > 0 then
      headers[#headers].value = headers[#headers].value .. "\n" .. line
    else
      local name, value = line:match("^([^:]+):(.*)$")
      M.check(name ~= nil, "not a header line in " .. path .. ": " .. line)
      headers[#headers + 1] = { name = name, value = value:gsub("^ ", "") }
    end
  end
  return headers, body:gsub("\n", "\r\n")
end

-- MAIL, RCPT, the headers, the body in pieces, then end of message.
-- The queue ID goes in as an RCPT-stage macro: libmilter's getsymval looks
-- through every stage's macros, as it does for Postfix's {i} at EOM.
function M.send(conn, path, id)
  local headers, body = M.read_eml(path)
  M.check(mt.mailfrom(conn, "<sato@example.co.jp>") == nil, "mailfrom failed")
  M.check(mt.getreply(conn) == SMFIR_CONTINUE, "mail not continued")
  M.check(mt.macro(conn, SMFIC_RCPT, "i", id or qid) == nil, "macro failed")
  M.check(mt.rcptto(conn, "<tanaka@city.example.lg.jp>") == nil, "rcptto failed")
  M.check(mt.getreply(conn) == SMFIR_CONTINUE, "rcpt not continued")
  for _, h in ipairs(headers) do
    M.check(mt.header(conn, h.name, h.value) == nil, "header failed: " .. h.name)
    M.check(mt.getreply(conn) == SMFIR_CONTINUE, "header not continued: " .. h.name)
  end
  M.check(mt.eoh(conn) == nil, "eoh failed")
  M.check(mt.getreply(conn) == SMFIR_CONTINUE, "eoh not continued")
  -- uneven pieces, so a spool that mishandles chunk edges shows
  local pos, size = 1, 700
  while pos <= #body do
    M.check(mt.bodystring(conn, body:sub(pos, pos + size - 1)) == nil, "body failed")
    M.check(mt.getreply(conn) == SMFIR_CONTINUE, "body not continued")
    pos = pos + size
    size = size == 700 and 1300 or 700
  end
  M.check(mt.eom(conn) == nil, "eom failed")
end

-- The added value of NAME, without the blank libmilter wants us to send.
function M.added(conn, name)
  local v = mt.getheader(conn, name, 0)
  return v and v:gsub("^ ", "") or nil
end

-- Is the reply at end of message exactly "CODE DSN TEXT"?
function M.replied(conn, code, dsn, text)
  return mt.getreply(conn) == SMFIR_REPLYCODE and mt.eom_check(conn, MT_SMTPREPLY, code, dsn, text)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- Base64 in 76-column CRLF lines, as the sanitizer encodes its text part.
function M.base64_lines(data)
  local out, line = {}, {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local quad = {}
    for k = 0, 3 do
      quad[k + 1] = B64:sub(((n >> (18 - 6 * k)) & 63) + 1, ((n >> (18 - 6 * k)) & 63) + 1)
    end
    if not b then quad[3] = "=" end
    if not c then quad[4] = "=" end
    line[#line + 1] = table.concat(quad)
    if #line == 19 then   -- 76 characters
      out[#out + 1] = table.concat(line) .. "\r\n"
      line = {}
    end
  end
  if #line > 0 then
    out[#out + 1] = table.concat(line) .. "\r\n"
  end
  return table.concat(out)
end

-- The replaced body is TEMPLATE's text (what `mugai sanitize` decoded to,
-- its quarantine ID written as @QID@) with this message's quarantine ID,
-- base64 encoded; it arrives in pieces of CHUNK bytes, each checked.
function M.expect_body(conn, template, chunk)
  local status = M.added(conn, "X-Mugai-Status")
  M.check(status ~= nil, "no X-Mugai-Status added")
  local id = status:match("id=([%w-]+)")
  local f = assert(io.open(template, "rb"))
  local text = f:read("a")
  f:close()
  if id then
    text = text:gsub("@QID@", id)
  end
  local body = M.base64_lines(text)
  chunk = tonumber(chunk)
  for pos = 1, #body, chunk do
    local piece = body:sub(pos, pos + chunk - 1)
    M.check(mt.eom_check(conn, MT_BODYCHANGE, piece),
            "body piece at " .. pos .. " differs from `mugai sanitize` output")
  end
end

return M
