-- The MySQL accounts `mau db grants` made one of mau's roles, recorded by it, so that `mau db migrate` gives
-- each the rights its role has in the version being rolled out: grants are per table, and a release that
-- adds a table would otherwise leave every role's account without rights on it.
-- (user_name, host) is the account as MySQL names it; user names are at most 80 characters (MariaDB).
CREATE TABLE IF NOT EXISTS mau_role_account (
  user_name VARCHAR(80) NOT NULL,
  host VARCHAR(255) NOT NULL,
  role VARCHAR(16) NOT NULL,
  granted_at BIGINT NOT NULL,
  PRIMARY KEY (user_name, host)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
