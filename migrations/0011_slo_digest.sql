ALTER TABLE `jetmon_alert_contacts` ADD `slo_digest` enum('weekly');--> statement-breakpoint
ALTER TABLE `jetmon_alert_contacts` ADD `slo_digest_sent_week` date;
