-- The script cache (luamig.revision.cache) as scripts.load_dir uses it: what
-- it serves without reading a file, and when it reads the file anew. The
-- cache goes under XDG_CACHE_HOME (ctest points it into the build tree).
local lfs = require "lfs"
local scripts = require "luamig.revision.scripts"
local cache = require "luamig.revision.cache"
local support = require "spec.support.raised"
local fixtures = require "spec.support.fixtures"

-- Write a migration with id `id` whose file is dated `mtime` (seconds).
local function migration(path, id, mtime)
  fixtures.write(path, ('revision = "%s"\nfunction upgrade(db) end\n'):format(id))
  assert(lfs.touch(path, mtime, mtime))
end

local function ids(dir)
  local out = {}
  for i, s in ipairs(scripts.load_dir(dir)) do out[i] = s.id end
  return out
end

describe("the script cache", function()
  local dir, old
  before_each(function()
    dir, old = fixtures.tmpdir(), os.time() - 100
  end)

  it("serves an unchanged file's fields without reading it again", function()
    migration(dir .. "/a.lua", "aaaa", old)
    assert.are.same({ "aaaa" }, ids(dir)) -- a miss: read, then cached
    local c = cache.open(dir)
    assert.are.equal(1, cache.count(c))
    -- same size and date, other bytes: the cache still answers (a hit) ...
    migration(dir .. "/a.lua", "bbbb", old)
    local list = scripts.load_dir(dir)
    assert.are.equal("aaaa", list[1].id)
    -- ... and running it notices the file changed under it
    local e = support.raised(function() return list[1].upgrade end)
    assert.are.equal("script", e.kind)
    assert.matches(dir .. "/a.lua changed while luamig was running; run the command again", tostring(e), 1, true)
  end)

  it("reads a file anew when its size or date changed", function()
    migration(dir .. "/a.lua", "aaaa", old)
    assert.are.same({ "aaaa" }, ids(dir))
    migration(dir .. "/a.lua", "bbbbb", old)
    assert.are.same({ "bbbbb" }, ids(dir))
    migration(dir .. "/a.lua", "ccccc", old + 1)
    assert.are.same({ "ccccc" }, ids(dir))
    local s = scripts.load_dir(dir)[1]
    assert.is_function(s.upgrade)
  end)

  it("sees files added and removed", function()
    migration(dir .. "/a.lua", "aaaa", old)
    assert.are.same({ "aaaa" }, ids(dir))
    migration(dir .. "/b.lua", "bbbb", old)
    assert.are.same({ "aaaa", "bbbb" }, ids(dir))
    assert(os.remove(dir .. "/a.lua"))
    assert.are.same({ "bbbb" }, ids(dir))
    assert.are.equal(1, cache.count(cache.open(dir)))
  end)

  it("still sees a file edited within the second the cache was written in", function()
    local now
    repeat -- until the file's date and the cache's are the same second
      now = os.time()
      migration(dir .. "/a.lua", "aaaa", now)
      assert.are.same({ "aaaa" }, ids(dir))
    until os.time() == now
    migration(dir .. "/a.lua", "bbbb", now) -- same size, same date
    assert.are.same({ "bbbb" }, ids(dir))
  end)

  it("keeps a memo while no file was added, removed or changed", function()
    migration(dir .. "/a.lua", "aaaa", old)
    assert.is_nil(scripts.memo(dir))
    local _, loaded = scripts.load_dir(dir)
    scripts.remember(loaded, "heads: aaaa\twith\nodd, bytes%")
    assert.are.equal("heads: aaaa\twith\nodd, bytes%", scripts.memo(dir))
    migration(dir .. "/b.lua", "bbbb", old)
    assert.is_nil(scripts.memo(dir), "a file added")
    assert(os.remove(dir .. "/b.lua"))
    assert.are.equal("heads: aaaa\twith\nodd, bytes%", scripts.memo(dir))
    migration(dir .. "/a.lua", "cccc", old + 1)
    assert.is_nil(scripts.memo(dir), "a file changed")
    _, loaded = scripts.load_dir(dir)
    scripts.remember(loaded, "m2")
    assert.are.equal("m2", scripts.memo(dir))
    assert(os.remove(dir .. "/a.lua"))
    assert.is_nil(scripts.memo(dir), "a file removed")
  end)

  it("trusts no memo while a file is dated the second the cache was written in (it may change again unseen)", function()
    local now
    repeat -- until the file's date and the cache's are the same second
      now = os.time()
      migration(dir .. "/a.lua", "aaaa", now)
      local _, loaded = scripts.load_dir(dir)
      scripts.remember(loaded, "m")
    until os.time() == now
    assert.is_nil(scripts.memo(dir))
    assert(lfs.touch(dir .. "/a.lua", old, old))
    local _, loaded = scripts.load_dir(dir)
    scripts.remember(loaded, "m")
    assert.are.equal("m", scripts.memo(dir), "dated before the cache: the memo holds")
  end)

  it("keeps a memo for files whose names hold a comma, % or tab, and drops it for the last one removed", function()
    migration(dir .. "/a,1%.lua", "aaaa", old)
    migration(dir .. "/b\t2.lua", "bbbb", old)
    migration(dir .. "/c.lua", "cccc", old)
    local _, loaded = scripts.load_dir(dir)
    scripts.remember(loaded, "m")
    assert.are.equal("m", scripts.memo(dir))
    assert(os.remove(dir .. "/c.lua"))
    assert.is_nil(scripts.memo(dir), "the last file removed")
  end)

  it("keeps every field a script's graph needs", function()
    local path = fixtures.write(dir .. "/a.lua",
      '-- tab\there, comma, 100%\nrevision = "a1"\ndown_revision = { "p,1", "p2" }\n' ..
      'depends_on = "d1"\nbranch_labels = { "x", "y" }\ntransactional = false\nfunction upgrade(db) end\n')
    assert(lfs.touch(path, old, old))
    local fields = { "id", "parents", "depends_on", "branch_labels", "transactional", "message", "line", "checksum" }
    local function pick(s)
      local out = {}
      for _, k in ipairs(fields) do out[k] = s[k] end
      return out
    end
    local fresh = pick(scripts.load_dir(dir)[1])
    assert.are.same(pick(scripts.load_file(path)), fresh)
    assert.are.same(fresh, pick(scripts.load_dir(dir)[1])) -- from the cache
    assert.are.equal(1, cache.count(cache.open(dir)))
  end)
end)
