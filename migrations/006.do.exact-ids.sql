-- Identity by exact bytes. utf8mb4_bin is a PAD SPACE collation in MariaDB and MySQL 8 alike: 'a' = 'a '
-- there, so an upsert of "a " landed on the row of "a". VARBINARY compares bytes and pads nothing, and both
-- servers accept it; the consumer writes UTF-8 (the connection's utf8mb4), so the bytes are the id's UTF-8.
-- 1020 bytes = 255 characters of up to 4 bytes (events.ts rejects longer ids); 120 = 30 for a source.
ALTER TABLE mau
  MODIFY environment_namespace VARBINARY(1020) NOT NULL,
  MODIFY source_id VARBINARY(120) NOT NULL,
  MODIFY user_id VARBINARY(1020) NOT NULL;
ALTER TABLE mau_user_month
  MODIFY environment_namespace VARBINARY(1020) NOT NULL,
  MODIFY user_id VARBINARY(1020) NOT NULL;
ALTER TABLE mau_summary
  MODIFY environment_namespace VARBINARY(1020) NOT NULL,
  MODIFY source_id VARBINARY(120) NOT NULL;
ALTER TABLE mau_backfill
  MODIFY environment_namespace VARBINARY(1020) NOT NULL;

-- What a migration wants its operator to read; `mau db migrate` prints the notes of what it applied.
-- 006 leaves one only where some rows may hold ids merged before.
CREATE TABLE IF NOT EXISTS mau_schema_note (
  version INT NOT NULL,
  note VARCHAR(1024) NOT NULL,
  PRIMARY KEY (version)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Under PAD SPACE only a trailing space (0x20) made two keys one, so only the environment-months holding a
-- key that ends in one (an environment named with trailing spaces counts as the one without them) may now
-- disagree with their rows: found first, by a plain read that blocks nobody.
CREATE TEMPORARY TABLE mau_exact_envs (yearmonth VARCHAR(6) NOT NULL, ns VARBINARY(1020) NOT NULL, PRIMARY KEY (yearmonth, ns))
  SELECT DISTINCT yearmonth, TRIM(TRAILING ' ' FROM environment_namespace) AS ns FROM mau WHERE user_id LIKE '% ' OR environment_namespace LIKE '% ';

INSERT INTO mau_schema_note (version, note)
  SELECT 6, CONCAT(
    'ids are now compared by their exact bytes. ', COUNT(*), ' rows of mau, in ',
    (SELECT COUNT(*) FROM mau_exact_envs), ' environment-month(s), have an id or environment ending in a space: events of an id',
    ' that differed from one of them only by trailing spaces were merged into it before, and cannot be told apart now.',
    ' User lists and summary counters of those environment-months were rebuilt from the rows, so `mau summary check` agrees.')
  FROM mau WHERE user_id LIKE '% ' OR environment_namespace LIKE '% '
  HAVING COUNT(*) > 0;

-- Each affected environment is a range of the primary key: its name, then its name followed by spaces.
-- Consumers of the previous version would add to these counters while they are rebuilt: they wait meanwhile.
LOCK TABLES mau AS m READ, mau_user_month WRITE, mau_summary WRITE, mau_summary AS s WRITE;
INSERT IGNORE INTO mau_user_month (environment_namespace, yearmonth, user_id)
  SELECT m.environment_namespace, m.yearmonth, m.user_id FROM mau_exact_envs e JOIN mau m
    ON m.environment_namespace >= e.ns AND m.environment_namespace < CONCAT(e.ns, '!') AND m.yearmonth = e.yearmonth
   AND TRIM(TRAILING ' ' FROM m.environment_namespace) = e.ns;
DELETE s FROM mau_exact_envs e JOIN mau_summary s
    ON s.yearmonth = e.yearmonth AND s.environment_namespace >= e.ns AND s.environment_namespace < CONCAT(e.ns, '!')
   AND TRIM(TRAILING ' ' FROM s.environment_namespace) = e.ns;
INSERT INTO mau_summary (yearmonth, environment_namespace, source_id, users, events)
  SELECT m.yearmonth, m.environment_namespace, m.source_id, COUNT(*), SUM(m.event_count) FROM mau_exact_envs e JOIN mau m
    ON m.environment_namespace >= e.ns AND m.environment_namespace < CONCAT(e.ns, '!') AND m.yearmonth = e.yearmonth
   AND TRIM(TRAILING ' ' FROM m.environment_namespace) = e.ns
   GROUP BY m.yearmonth, m.environment_namespace, m.source_id;
INSERT INTO mau_summary (yearmonth, environment_namespace, source_id, users, events)
  SELECT m.yearmonth, m.environment_namespace, '', COUNT(DISTINCT m.user_id), SUM(m.event_count) FROM mau_exact_envs e JOIN mau m
    ON m.environment_namespace >= e.ns AND m.environment_namespace < CONCAT(e.ns, '!') AND m.yearmonth = e.yearmonth
   AND TRIM(TRAILING ' ' FROM m.environment_namespace) = e.ns
   GROUP BY m.yearmonth, m.environment_namespace;
UNLOCK TABLES;
DROP TEMPORARY TABLE mau_exact_envs;
