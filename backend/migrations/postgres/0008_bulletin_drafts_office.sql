-- A draft bulletin is the office's, whatever unit the account that saved it belongs to
-- (`Bulletin::visibility`). Drafts stored before were marked with that account's unit; they
-- are marked with the office's: c7fa44cb-… is `unit_id_for_name(OFFICE_UNIT)` (shared's
-- bulletin tests check it). Published bulletins are everyone's, unmarked, and stay so.
UPDATE entity SET visible_unit = 'c7fa44cb-a7c2-56a0-8873-2c46d22e6417'
WHERE kind = 'bulletin' AND visible_unit IS NOT NULL;
