CREATE TABLE `jetmon_url_trigram_counts` (
	`trigram` varchar(3) NOT NULL,
	`entries` int NOT NULL,
	CONSTRAINT `jetmon_url_trigram_counts_trigram` PRIMARY KEY(`trigram`)
);
--> statement-breakpoint
CREATE INDEX `idx_created` ON `jetmon_audit_log` (`created_at`,`id`);--> statement-breakpoint
INSERT INTO `jetmon_url_trigram_counts` (`trigram`, `entries`)
	SELECT `trigram`, COUNT(*) FROM `jetmon_url_trigrams` GROUP BY `trigram`;
