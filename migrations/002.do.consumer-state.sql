-- Kafka offsets stored in the same transaction as the rows they produced: the consumer's source of truth
-- for exactly-once. next_offset is the offset of the next message to apply for that partition.
CREATE TABLE IF NOT EXISTS mau_consumer_offset (
  consumer_group VARCHAR(255) NOT NULL,
  topic VARCHAR(249) NOT NULL,
  kafka_partition INT NOT NULL,
  next_offset BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (consumer_group, topic, kafka_partition)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Messages that could not be decoded or failed validation, kept byte for byte with the reason.
CREATE TABLE IF NOT EXISTS mau_dead_letter (
  id BIGINT NOT NULL AUTO_INCREMENT,
  consumer_group VARCHAR(255) NOT NULL,
  topic VARCHAR(249) NOT NULL,
  kafka_partition INT NOT NULL,
  kafka_offset BIGINT NOT NULL,
  reason VARCHAR(1024) NOT NULL,
  payload MEDIUMBLOB,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY mau_dead_letter_message (consumer_group, topic, kafka_partition, kafka_offset),
  KEY mau_dead_letter_created (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
