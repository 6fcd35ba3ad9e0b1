-- Units of measure (SPEC §13). An item's unit is its base unit. Each
-- transaction keeps its quantity, unit and pack as read, and its quantity in
-- the item's base unit; an item's stock is the exact sum of those.

ALTER TABLE transactions
    ADD COLUMN pack          text,
    ADD COLUMN base_quantity numeric(18,3);
-- Rows imported before units were converted added their quantity as read:
-- that is their base quantity, so every item's stock stays what it was.
UPDATE transactions SET base_quantity = quantity;
ALTER TABLE transactions ALTER COLUMN base_quantity SET NOT NULL;

-- Conversions an operator sets for one item: one UNIT holds FACTOR of the
-- item's base unit (batchimport units set ITEM UNIT FACTOR).
CREATE TABLE item_units (
    account  text        NOT NULL,
    item_id  bigint      NOT NULL,
    unit     text        NOT NULL, -- normalized
    factor   numeric     NOT NULL CHECK (factor > 0),
    set_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, item_id, unit),
    FOREIGN KEY (account, item_id) REFERENCES inventory_items (account, id) ON DELETE CASCADE
);
