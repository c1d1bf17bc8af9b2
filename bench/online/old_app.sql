-- The old application (pgbench script): old column names. Stops (aborts
-- with division_by_zero, on purpose) once app_control says so.
SELECT stop FROM app_control WHERE app = 'old' \gset
\if :stop
SELECT 1/0;
\endif
\set id random(1, :seed)
\set n random(1, 100000000)
INSERT INTO orders (customer_name, price_cents) VALUES ('old-' || :n, :n);
UPDATE orders SET customer_name = 'oldu-' || :n, price_cents = :n WHERE id = :id;
SELECT customer_name, price_cents FROM orders WHERE id = :id;
