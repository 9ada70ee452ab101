\set id random(1, :rows)
SELECT * FROM orders WHERE id = :id;
