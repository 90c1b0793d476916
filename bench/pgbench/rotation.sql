-- pgbench script: one refresh-token rotation, the same statements Latchkey's POST /refresh runs.
-- Client c owns session row n = c + 1 (seeded by scripts/bench with generation 0). Its token at
-- generation g is stood in for by sha256('<n>:<g>'), so the client only needs to remember g, which
-- pgbench keeps per client across transactions (-D g=0 sets the start, \gset carries it on).
\set n :client_id + 1
BEGIN;
SELECT id AS sid, generation AS g
  FROM sessions
 WHERE refresh_token_hash = encode(sha256(convert_to(:n::text || ':' || :g::text, 'UTF8')), 'hex')
    OR previous_token_hash = encode(sha256(convert_to(:n::text || ':' || :g::text, 'UTF8')), 'hex') \gset
UPDATE sessions
   SET refresh_token_hash = encode(sha256(convert_to(:n::text || ':' || (:g + 1)::text, 'UTF8')), 'hex'),
       previous_token_hash = encode(sha256(convert_to(:n::text || ':' || :g::text, 'UTF8')), 'hex'),
       generation = generation + 1,
       rotated_at = now(),
       last_used_at = now(),
       expires_at = now() + interval '7 days'
 WHERE id = :sid
   AND refresh_token_hash = encode(sha256(convert_to(:n::text || ':' || :g::text, 'UTF8')), 'hex')
   AND revoked_at IS NULL
RETURNING generation AS g \gset
COMMIT;
