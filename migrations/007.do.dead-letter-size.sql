-- A dead letter keeps at most --dead-letter-max-bytes of its message (a 5 MB bad message filled a window's
-- statement past max_allowed_packet); the whole message's length and SHA-256 say what was cut. NULL in
-- letters set aside before this: their payload is whole.
ALTER TABLE mau_dead_letter
  ADD COLUMN payload_bytes BIGINT NULL,
  ADD COLUMN payload_sha256 BINARY(32) NULL;
