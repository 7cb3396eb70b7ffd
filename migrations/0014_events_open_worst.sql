-- The worst open event of a site (highest severity, then earliest start, then lowest id) read in index
-- order instead of sorting the site's open events for every row of a page of GET /sites.
CREATE INDEX `idx_blog_open_worst` ON `jetmon_events` (`blog_id`,`ended_at`,`severity` desc,`started_at`,`id`);
