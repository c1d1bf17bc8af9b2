-- The sample project ./run.sh builds: the migrations/ and seeds/ next to this
-- file, applied to luamig.db here (the defaults; nothing to set).
return {}
