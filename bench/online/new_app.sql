-- The new application (pgbench script): new column names, the new column
-- `note` written. Stops (aborts with division_by_zero, on purpose) once
-- app_control says so.
SELECT stop FROM app_control WHERE app = 'new' \gset
\if :stop
SELECT 1/0;
\endif
\set id random(1, :seed)
\set n random(1, 100000000)
INSERT INTO orders (buyer, price, note) VALUES ('new-' || :n, :n / 100.0, 'new');
UPDATE orders SET buyer = 'newu-' || :n, price = :n / 100.0 WHERE id = :id;
SELECT buyer, price, note FROM orders WHERE id = :id;
