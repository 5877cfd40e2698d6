DROP INDEX `library_item_genres_title_idx`;--> statement-breakpoint
DROP INDEX `library_item_genres_added_idx`;--> statement-breakpoint
DROP INDEX `library_item_genres_year_idx`;--> statement-breakpoint
DROP INDEX `library_item_genres_rating_idx`;--> statement-breakpoint
ALTER TABLE `library_item_genres` ADD `title_key` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `library_item_genres` ADD `sort_added` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `library_item_genres` ADD `sort_year` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `library_item_genres` ADD `sort_rating` real DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `library_item_genres_title_idx` ON `library_item_genres` (`source_id`,`library_id`,`genre`,`title_key`,`item_id`);--> statement-breakpoint
CREATE INDEX `library_item_genres_added_idx` ON `library_item_genres` (`source_id`,`library_id`,`genre`,`sort_added`,`title_key`,`item_id`);--> statement-breakpoint
CREATE INDEX `library_item_genres_year_idx` ON `library_item_genres` (`source_id`,`library_id`,`genre`,`sort_year`,`title_key`,`item_id`);--> statement-breakpoint
CREATE INDEX `library_item_genres_rating_idx` ON `library_item_genres` (`source_id`,`library_id`,`genre`,`sort_rating`,`title_key`,`item_id`);--> statement-breakpoint
ALTER TABLE `library_item_genres` DROP COLUMN `rank_title`;--> statement-breakpoint
ALTER TABLE `library_item_genres` DROP COLUMN `rank_added`;--> statement-breakpoint
ALTER TABLE `library_item_genres` DROP COLUMN `rank_year`;--> statement-breakpoint
ALTER TABLE `library_item_genres` DROP COLUMN `rank_rating`;--> statement-breakpoint
DROP INDEX `library_items_title_idx`;--> statement-breakpoint
DROP INDEX `library_items_added_idx`;--> statement-breakpoint
DROP INDEX `library_items_year_idx`;--> statement-breakpoint
DROP INDEX `library_items_rating_idx`;--> statement-breakpoint
ALTER TABLE `library_items` ADD `sort_added` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `library_items` ADD `sort_year` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `library_items` ADD `sort_rating` real DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `library_items_title_idx` ON `library_items` (`source_id`,`library_id`,`title_key`,`item_id`,`watched`,`in_progress`,`year`);--> statement-breakpoint
CREATE INDEX `library_items_added_idx` ON `library_items` (`source_id`,`library_id`,`sort_added`,`title_key`,`item_id`,`watched`,`in_progress`,`year`);--> statement-breakpoint
CREATE INDEX `library_items_year_idx` ON `library_items` (`source_id`,`library_id`,`sort_year`,`title_key`,`item_id`,`watched`,`in_progress`,`year`);--> statement-breakpoint
CREATE INDEX `library_items_rating_idx` ON `library_items` (`source_id`,`library_id`,`sort_rating`,`title_key`,`item_id`,`watched`,`in_progress`,`year`);--> statement-breakpoint
ALTER TABLE `library_items` DROP COLUMN `rank_title`;--> statement-breakpoint
ALTER TABLE `library_items` DROP COLUMN `rank_added`;--> statement-breakpoint
ALTER TABLE `library_items` DROP COLUMN `rank_year`;--> statement-breakpoint
ALTER TABLE `library_items` DROP COLUMN `rank_rating`;--> statement-breakpoint
UPDATE `library_items` SET `sort_added` = coalesce(-`added_at`, 9007199254740991), `sort_year` = coalesce(-`year`, 9007199254740991), `sort_rating` = coalesce(-`rating`, 9007199254740991);--> statement-breakpoint
UPDATE `library_item_genres` SET (`title_key`, `sort_added`, `sort_year`, `sort_rating`) = (SELECT i.`title_key`, i.`sort_added`, i.`sort_year`, i.`sort_rating` FROM `library_items` AS i WHERE i.`source_id` = `library_item_genres`.`source_id` AND i.`item_id` = `library_item_genres`.`item_id`) WHERE EXISTS (SELECT 1 FROM `library_items` AS i WHERE i.`source_id` = `library_item_genres`.`source_id` AND i.`item_id` = `library_item_genres`.`item_id`);
