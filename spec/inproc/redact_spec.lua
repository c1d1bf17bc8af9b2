-- luamig.util.redact: the secrets of a raw URL or libpq string, scrubbed.
local redact = require "luamig.util.redact"

describe("redact.url", function()
  it("hides the password of URLs and libpq strings, and nothing else", function()
    for url, want in pairs {
      ["postgresql://bob:s3cret@host:5432/db"] = "postgresql://bob:***@host:5432/db",
      ["postgres://bob:p@ss:w0rd@host/db"] = "postgres://bob:***@host/db",
      ["postgres://bob:p/ss@host/db"] = "postgres://bob:***@host/db",
      ["postgresql://bob:pw@host/db?options=a@b"] = "postgresql://bob:***@host/db?options=a@b",
      ["postgresql://bob@host/db?sslmode=require&password=s3cret"] = "postgresql://bob@host/db?sslmode=require&password=***",
      ["postgresql://host/db?password=s3cret&sslmode=require"] = "postgresql://host/db?password=***&sslmode=require",
      ["host=h password=s3cret dbname=d"] = "host=h password=*** dbname=d",
      ["host=h password = 's3 cret' dbname=d"] = "host=h password = *** dbname=d",
      ["host=h password='a\\'b c' dbname=d"] = "host=h password=*** dbname=d",
      ["host=h password=a\\ b dbname=d"] = "host=h password=*** dbname=d",
      ["host=h sslpassword=s3cret"] = "host=h sslpassword=***",
      ["bob:s3cret@host/db"] = "bob:***@host/db",
      ["postgresql:/bob:s3cret@host/db"] = "postgresql:/bob:***@host/db",
      ["postgresql:///bob:s3cret@host/db"] = "postgresql:///bob:***@host/db",
      ["postgresql://bob@host/db"] = "postgresql://bob@host/db",
      ["sqlite:///data/app.db"] = "sqlite:///data/app.db",
      ["host=h user=password_owner"] = "host=h user=password_owner",
    } do
      assert.are.equal(want, redact.url(url), url)
    end
  end)
end)

describe("redact.scrub", function()
  it("replaces the exact secrets, decoded ones too, and leaves other words alone", function()
    local secrets = redact.secrets("postgresql://u:Zq7%2FXw9@h/db")
    assert.are.same({ "Zq7%2FXw9", "Zq7/Xw9" }, secrets)
    assert.are.equal('bad "***" and "***"; invalid connection option "bogus"',
      redact.scrub('bad "Zq7/Xw9" and "Zq7%2FXw9"; invalid connection option "bogus"', secrets))
    assert.are.equal("a.b%", redact.scrub("a.b%", { "%" .. "." }), "secrets are plain text, not patterns")
  end)
end)
