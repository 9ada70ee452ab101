\set customer random(1, :customers)
SELECT * FROM orders WHERE customer_id = :customer ORDER BY created_at DESC LIMIT 50;
