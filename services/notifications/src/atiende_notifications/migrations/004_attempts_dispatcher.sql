-- Which dispatcher (replica) made each attempt: the delivery log says who sent what, and tests
-- can see that replicas share the work.
ALTER TABLE delivery_attempts ADD COLUMN dispatcher text;
