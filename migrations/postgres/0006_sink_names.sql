-- SQLite 0009. Sinks are named (`name` in [[sinks]], default kind@host) instead of numbered by
-- their place in the config, so reordering [[sinks]] no longer sends a ticket's later events
-- elsewhere. References made before keep their position, as text ('0', '1', …): the first
-- start with this version renames them, and queued notices naming a position, to the name
-- of the sink at that position in the config of that start (names are never all digits, so
-- once). Upgrade all instances together: an older one cannot read named notices.
ALTER TABLE sink_refs ALTER COLUMN sink TYPE TEXT USING sink::text;
