-- luamig.util.sql_split (op.execute_file's statement splitter), on the
-- drivers' tokenizer (in process: luamig.host.sql_tokens), tested on the SQL
-- shapes pg_dump and hand-written files hold.
local split = require("luamig.util.sql_split").split

-- "kind@line:text" of each piece.
local function shape(sql)
  local out = {}
  for i, p in ipairs(assert(split(sql))) do
    out[i] = ("%s@%d:%s"):format(p.kind, p.line, p.text) .. (p.data and ("|" .. p.data) or "")
  end
  return out
end

describe("sql_split", function()
  it("ends statements at semicolons outside quotes, comments and bodies", function()
    assert.are.same({
      "sql@2:SELECT 'a;b', \"c;d\", E'e\\';f', $$g;$$, $t$h;$t$",
      "sql@3:SELECT $1::int",
      "sql@5:CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END",
      "sql@7:CREATE TABLE t (\"begin\" int)",
      "sql@7:SELECT 1",
    }, shape("-- one; comment\nSELECT 'a;b', \"c;d\", E'e\\';f', $$g;$$, $t$h;$t$;\nSELECT $1::int;\n" ..
      "/* x; /* nested; */ y; */\nCREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; " ..
      "SELECT CASE WHEN true THEN 2 END; END;\n\nCREATE TABLE t (\"begin\" int); SELECT 1\n-- trailing"))
  end)

  it("keeps psql meta-commands as pieces and reads COPY data up to \\.", function()
    assert.are.same({
      "meta@1:\\restrict k1",
      "copy@2:COPY public.t (a, b) FROM stdin|1\tx;y\n2\t\\N\n",
      "sql@6:SELECT 2",
      "meta@7:\\unrestrict k1",
    }, shape("\\restrict k1\nCOPY public.t (a, b) FROM stdin;\n1\tx;y\n2\t\\N\n\\.\nSELECT 2;\n\\unrestrict k1\n"))
  end)

  it("names the line of an unterminated quote, comment or COPY block", function()
    for sql, want in pairs({
      ["SELECT 1;\nSELECT 'x"] = { 2, "unterminated string" },
      ["\n\nSELECT $a$ x"] = { 3, "unterminated dollar%-quoted string %$a%$" },
      ["/* /* */"] = { 1, "unterminated /%* comment" },
      ["SELECT 1;\nCOPY t FROM stdin;\n1\n"] = { 2, "no closing \\%." },
    }) do
      local pieces, line, problem = split(sql)
      assert.is_nil(pieces)
      assert.are.equal(want[1], line, sql)
      assert.matches(want[2], problem)
    end
  end)
end)
