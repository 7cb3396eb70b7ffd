CREATE TABLE `jetmon_url_trigrams` (
	`trigram` varchar(3) NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`endpoint_id` bigint unsigned NOT NULL,
	CONSTRAINT `jetmon_url_trigrams_trigram_blog_id_endpoint_id_pk` PRIMARY KEY(`trigram`,`blog_id`,`endpoint_id`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_url_trigram_positions` (
	`position` smallint unsigned NOT NULL,
	CONSTRAINT `jetmon_url_trigram_positions_position` PRIMARY KEY(`position`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_url_trigram_queue` (
	`seq` bigint unsigned AUTO_INCREMENT NOT NULL,
	`endpoint_id` bigint unsigned NOT NULL,
	CONSTRAINT `jetmon_url_trigram_queue_seq` PRIMARY KEY(`seq`)
);
--> statement-breakpoint
CREATE INDEX `idx_endpoint` ON `jetmon_url_trigrams` (`endpoint_id`);--> statement-breakpoint
INSERT INTO `jetmon_url_trigram_positions` (`position`)
	SELECT 1 + units.d + 10 * tens.d + 100 * hundreds.d + 1000 * thousands.d
	FROM (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) AS units
	CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) AS tens
	CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) AS hundreds
	CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2) AS thousands;
--> statement-breakpoint
CREATE TRIGGER `jetmon_url_trigrams_insert` AFTER INSERT ON `jetpack_monitor_sites` FOR EACH ROW
	INSERT INTO `jetmon_url_trigram_queue` (`endpoint_id`) VALUES (NEW.jetpack_monitor_site_id);
--> statement-breakpoint
CREATE TRIGGER `jetmon_url_trigrams_update` AFTER UPDATE ON `jetpack_monitor_sites` FOR EACH ROW
	INSERT INTO `jetmon_url_trigram_queue` (`endpoint_id`)
		SELECT NEW.jetpack_monitor_site_id FROM DUAL
		WHERE CAST(NEW.monitor_url AS BINARY) <> CAST(OLD.monitor_url AS BINARY) OR NEW.blog_id <> OLD.blog_id
			OR NEW.jetpack_monitor_site_id <> OLD.jetpack_monitor_site_id
		UNION ALL SELECT OLD.jetpack_monitor_site_id FROM DUAL
		WHERE NEW.jetpack_monitor_site_id <> OLD.jetpack_monitor_site_id;
--> statement-breakpoint
CREATE TRIGGER `jetmon_url_trigrams_delete` AFTER DELETE ON `jetpack_monitor_sites` FOR EACH ROW
	INSERT INTO `jetmon_url_trigram_queue` (`endpoint_id`) VALUES (OLD.jetpack_monitor_site_id);
--> statement-breakpoint
INSERT IGNORE INTO `jetmon_url_trigrams` (`trigram`, `blog_id`, `endpoint_id`)
	SELECT SUBSTRING(s.monitor_url, p.position, 3), s.blog_id, s.jetpack_monitor_site_id
	FROM `jetpack_monitor_sites` AS s
	JOIN `jetmon_url_trigram_positions` AS p ON p.position <= CHAR_LENGTH(s.monitor_url) - 2;
