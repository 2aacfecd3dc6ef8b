<?php
// bench/compare.d/kv.php: the part of kv's HTTP API that bench/compare
// measures, in PHP over SQLite, as a PHP programmer would write it for
// php-fpm: the same requests as bench/kv.lua sends to kv, answered the
// same way.
//
//   GET /kv/                          200 {"ok":true} (a query on the store)
//   GET /kv/KEY                       the value, 404 when absent
//   PUT /kv/KEY  {"value": V}         stores V (any JSON), answers
//                                     {"key": KEY, "versionstamp": "N"}
//   GET /kv/PREFIX?list=true&limit=N&cursor=HEX
//                                     up to N (1 to 1000, default 100) keys
//                                     under PREFIX after the key whose hex
//                                     is HEX, in key order, with values and
//                                     versionstamps, and the next cursor
//
// As in kv, keys are dotted paths, every write gets the next versionstamp
// of the whole store (one counter, the meta table), a PUT's body must be
// JSON and an error is JSON. bench/compare.d/seed.py creates the schema;
// the database's path comes from the pool's environment (KV_SQLITE).
//
// The connection is persistent (one per php-fpm child, kept across
// requests) and waits up to 5 s for the write lock, which four children
// share: SQLite has one writer at a time.

function answer(int $status, string $body, array $headers = []): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    header('Cache-Control: no-store');
    foreach ($headers as $h) {
        header($h);
    }
    echo $body;
}

function fail(int $status, string $code, string $message): void
{
    answer($status, json_encode(['error' => ['status' => $status, 'code' => $code,
        'message' => $message]]));
}

function stamp(int $version): string
{
    return sprintf('%020d', $version);
}

function db(): PDO
{
    $db = new PDO('sqlite:' . getenv('KV_SQLITE'), null, null, [
        PDO::ATTR_PERSISTENT => true,
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_TIMEOUT => 5,
    ]);
    // Per connection (journal_mode=WAL is the file's, set when seeding):
    // with WAL, NORMAL syncs at checkpoints only, not at each commit.
    $db->exec('PRAGMA synchronous = NORMAL');
    return $db;
}

function get_key(PDO $db, string $key): void
{
    $q = $db->prepare('SELECT value, version FROM kv WHERE key = ?');
    $q->execute([$key]);
    $row = $q->fetch(PDO::FETCH_NUM);
    if ($row === false) {
        fail(404, 'not_found', "no key $key");
        return;
    }
    answer(200, $row[0], ['ETag: "' . stamp($row[1]) . '"']);
}

function put_key(PDO $db, string $key, string $body): void
{
    $doc = json_decode($body);
    if (!is_object($doc) || !property_exists($doc, 'value')) {
        fail(400, 'invalid_body', 'the body must be a JSON object with a value');
        return;
    }
    $value = json_encode($doc->value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    // IMMEDIATE: take the write lock at the start, so that the counter's
    // read and the write cannot be overtaken by another writer.
    $db->exec('BEGIN IMMEDIATE');
    try {
        $version = (int)$db->query('UPDATE meta SET version = version + 1 RETURNING version')
            ->fetchColumn();
        $db->prepare('INSERT INTO kv (key, value, version) VALUES (?, ?, ?) ' .
            'ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version')
            ->execute([$key, $value, $version]);
        $db->exec('COMMIT');
    } catch (Throwable $e) {
        $db->exec('ROLLBACK');
        throw $e;
    }
    answer(200, json_encode(['key' => $key, 'versionstamp' => stamp($version)]));
}

function list_keys(PDO $db, string $prefix, array $query): void
{
    $limit = (int)($query['limit'] ?? 100);
    if ($limit < 1 || $limit > 1000) {
        fail(400, 'invalid_limit', 'limit must be 1 to 1000');
        return;
    }
    // The keys under PREFIX lie between "PREFIX." and "PREFIX/", the
    // character after ".".
    $low = $prefix === '' ? '' : "$prefix.";
    $high = $prefix === '' ? "\u{10FFFF}" : "$prefix/";
    $after = $low;
    if (isset($query['cursor'])) {
        $cursor = @hex2bin($query['cursor']);
        if ($cursor === false) {
            fail(400, 'invalid_cursor', 'the cursor is not hex');
            return;
        }
        $after = max($after, $cursor);
    }
    // ("PREFIX." itself is no key: a key's segments are not empty.)
    $q = $db->prepare('SELECT key, value, version FROM kv WHERE key > ? AND key < ? ' .
        'ORDER BY key LIMIT ?');
    $q->execute([$after, $high, $limit + 1]);
    $rows = $q->fetchAll(PDO::FETCH_NUM);
    $next = null;
    if (count($rows) > $limit) {
        array_pop($rows);
        $next = bin2hex($rows[$limit - 1][0]);
    }
    // The stored values are JSON already: they go into the answer as they
    // are, without a decode and an encode each.
    $entries = [];
    foreach ($rows as [$k, $v, $n]) {
        $entries[] = '{"key":' . json_encode($k) . ',"value":' . $v .
            ',"versionstamp":"' . stamp($n) . '"}';
    }
    answer(200, '{"entries":[' . implode(',', $entries) . '],"cursor":' .
        json_encode($next) . '}');
}

$uri = $_SERVER['REQUEST_URI'];
$path = strtok($uri, '?');
parse_str((string)parse_url($uri, PHP_URL_QUERY), $query);
if (strncmp($path, '/kv/', 4) !== 0) {
    fail(404, 'not_found', 'not under /kv/');
    exit;
}
$key = rawurldecode(substr($path, 4));
if ($key !== '' && !preg_match('/^[A-Za-z0-9_~-]+(\.[A-Za-z0-9_~-]+)*$/', $key)) {
    fail(400, 'invalid_key', 'a key is a dotted path');
    exit;
}

try {
    $db = db();
    $method = $_SERVER['REQUEST_METHOD'];
    if ($method === 'GET' && ($query['list'] ?? '') === 'true') {
        list_keys($db, $key, $query);
    } elseif ($method === 'GET' && $key === '') {
        $db->query('SELECT 1 FROM meta')->fetchColumn();
        answer(200, '{"ok":true}');
    } elseif ($method === 'GET') {
        get_key($db, $key);
    } elseif ($method === 'PUT' && $key !== '') {
        put_key($db, $key, file_get_contents('php://input'));
    } else {
        fail(405, 'method_not_allowed', "$method is not served here");
    }
} catch (Throwable $e) {
    error_log('kv.php: ' . $e->getMessage());
    fail(500, 'internal', 'the store failed');
}
