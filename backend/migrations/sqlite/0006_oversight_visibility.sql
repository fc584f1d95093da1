-- Assessment adjustments are seen by those who oversee the plan (the leaders, the People's
-- Congress and the CPPCC) as well as by their unit and the office: `visible_unit` marks that as
-- 'oversight:' and the unit (`entity_store::OVERSIGHT`). Rows written before keep their unit.
UPDATE entity SET visible_unit = 'oversight:' || visible_unit
WHERE kind = 'adjustment' AND visible_unit IS NOT NULL AND visible_unit NOT LIKE 'oversight:%';
