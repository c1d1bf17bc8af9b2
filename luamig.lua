-- The sample project at the repository root (./run.sh). Its plugins/ folder is
-- the source of the shipped plugins, which the binary embeds: no project plugins.
return { plugins = {} }
