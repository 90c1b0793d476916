-- pgbench script: one refresh-token rotation, the statements Latchkey's POST /refresh runs on
-- PostgreSQL (backend/src/auth/sessions.rs `rotate`, READ COMMITTED):
--   find the presented token by hash, lock its session, load the user, claim the next generation with a
--   conditional UPDATE, record the successor's hash, commit.
-- Client c owns session n = c + 1, seeded by scripts/bench at generation 0. Its token at generation g is
-- stood in for by sha256('<n>:<g>'); pgbench keeps g per client across transactions (-D g=0 starts it).
\set n :client_id + 1
BEGIN;
SELECT token_hash, session_id AS sid, generation, created_at
  FROM refresh_tokens
 WHERE token_hash = encode(sha256(convert_to(:n::text || ':' || :g::text, 'UTF8')), 'hex')
 LIMIT 1 \gset
SELECT id, user_id AS uid, generation AS cur, created_at, last_used_at, rotated_at, expires_at,
       absolute_expires_at, revoked_at, user_agent, ip
  FROM sessions
 WHERE id = :sid
 LIMIT 1
   FOR UPDATE \gset
SELECT id, username, username_canonical, password_hash, created_at, updated_at
  FROM users
 WHERE id = :uid
 LIMIT 1;
UPDATE sessions
   SET generation = :cur + 1,
       rotated_at = now(),
       last_used_at = now(),
       expires_at = now() + interval '7 days'
 WHERE id = :sid
   AND generation = :cur
   AND revoked_at IS NULL;
INSERT INTO refresh_tokens (token_hash, session_id, generation, created_at)
VALUES (encode(sha256(convert_to(:n::text || ':' || (:g + 1)::text, 'UTF8')), 'hex'), :sid, :cur + 1, now());
COMMIT;
\set g :g + 1
