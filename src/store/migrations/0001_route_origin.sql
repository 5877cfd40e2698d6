ALTER TABLE `routes` ADD `origin` text DEFAULT 'typed' NOT NULL;
--> statement-breakpoint
-- Where older routes came from (hand-written, after the generated ALTER): every Plex route came
-- from plex.tv's resources list.
UPDATE `routes` SET `origin` = 'plex.tv' WHERE `source_id` IN (SELECT `id` FROM `sources` WHERE `kind` = 'plex');
--> statement-breakpoint
-- A Jellyfin source's routes were the typed URL (priority 0) plus, when different, the server's
-- LocalAddress as a local route: priority 1 next to a local typed URL, priority 0 next to a
-- remote one. Everything else stays 'typed'.
UPDATE `routes` SET `origin` = 'server-reported'
WHERE `kind` = 'local'
  AND `source_id` IN (SELECT `id` FROM `sources` WHERE `kind` = 'jellyfin')
  AND (`priority` = 1 OR EXISTS (SELECT 1 FROM `routes` AS `other` WHERE `other`.`source_id` = `routes`.`source_id` AND `other`.`kind` = 'remote'));
