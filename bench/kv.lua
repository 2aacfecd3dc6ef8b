-- bench/kv.lua: the wrk script of bench/run
--
--   wrk --latency -s bench/kv.lua http://127.0.0.1:PORT -- MODE KEYS VALUE_BYTES [TTL_MS]
--
--   MODE get      GET /kv/bench.kNNNNN of a key drawn at random among KEYS
--        put      PUT /kv/bench.kNNNNN of a random key; the body is
--                 {"value": V} where V is VALUE_BYTES of JSON (bench_value)
--        putttl   PUT /kv/bench.tNNNNN (keys of their own) with
--                 {"value": V, "ttl": TTL_MS}
--        list     GET /kv/bench?list=true&limit=100&cursor=C, C the cursor
--                 of a random key, so a page of 100 entries with values
--        children GET /kv/tree?list=true&depth=1: the one-level list of
--                 the tree bench/run seeds (KEYS is unused)
--        mix      90% get, 10% put
--        missing  GET /kv/bench.missing.kNNNNN: a 404 is the expected answer
--        getput   50% get, 50% put, every answer checked: a GET's body must
--                 be a value of VALUE_BYTES of JSON beginning {"id":"k (as
--                 bench/seed, a put and bench/deno_ops.ts write them), a
--                 PUT's the write's {"key":"bench.k...", "versionstamp": ...};
--                 any other answer counts in bad
--
-- Keys are bench.k00000 .. bench.k(KEYS-1); bench/run seeds them all first
-- with the same values (bench/seed.c writes the same bench_value), so a
-- GET always finds its key and a PUT overwrites one. Requests are built
-- once per key and reused. Every response with a status >= 300 is counted,
-- but for the 404s of `missing`, and done() prints one machine-readable
-- line:
--
--   RESULT requests=N duration_us=N rps=N p50_us=N p99_us=N max_us=N
--          non2xx=N n404=N errors=N bad=N first_non2xx=STATUS_BODY
--
-- (n404: the expected 404s; errors: wrk's socket connect/read/write errors
-- and timeouts; bad: answers of getput that are 2xx but not what the
-- request must answer, whose first is first_non2xx too).

local threads = {}

function setup(thread)
	thread:set("id", #threads)
	table.insert(threads, thread)
end

-- The JSON value stored under key number i: exactly `size` bytes.
function bench_value(i, size)
	local head = string.format('{"id":"k%05d","pad":"', i)
	local pad = size - #head - 2
	if pad < 0 then
		pad = 0
	end
	return head .. string.rep("x", pad) .. '"}'
end

local mode, keys, size, ttl
local cache = {}
local modes = { get = true, put = true, putttl = true, list = true, children = true, mix = true,
	missing = true, getput = true }

-- Per-thread state read by done() through thread:get().
non2xx = 0
n404 = 0
bad = 0
first_non2xx = ""

function init(args)
	mode = args[1] or "get"
	keys = tonumber(args[2] or "10000")
	size = tonumber(args[3] or "1024")
	ttl = tonumber(args[4] or "3600000")
	if not modes[mode] then
		error("bench/kv.lua: unknown mode " .. mode)
	end
	-- Overriding init drops wrk's default one, which sets Host.
	if wrk.headers["Host"] == nil then
		wrk.headers["Host"] = wrk.host .. (wrk.port and (":" .. wrk.port) or "")
	end
	math.randomseed(os.time() * 7919 + (id or 0) * 104729)
end

local function hex(text)
	return (string.gsub(text, ".", function(c)
		return string.format("%02x", string.byte(c))
	end))
end

-- The request of kind k ("get", "put", ...) for key number i.
local function build(k, i)
	local key = string.format("bench.k%05d", i)
	if k == "get" then
		return wrk.format("GET", "/kv/" .. key)
	elseif k == "put" then
		return wrk.format("PUT", "/kv/" .. key,
			{ ["Content-Type"] = "application/json" },
			'{"value":' .. bench_value(i, size) .. '}')
	elseif k == "putttl" then
		return wrk.format("PUT", string.format("/kv/bench.t%05d", i),
			{ ["Content-Type"] = "application/json" },
			'{"value":' .. bench_value(i, size) .. ',"ttl":' .. ttl .. '}')
	elseif k == "list" then
		return wrk.format("GET", "/kv/bench?list=true&limit=100&cursor=" .. hex(key))
	elseif k == "children" then
		return wrk.format("GET", "/kv/tree?list=true&depth=1")
	else
		return wrk.format("GET", "/kv/bench.missing." .. key)
	end
end

function request()
	local k = mode
	local i
	if k == "mix" then
		k = math.random(1, 10) == 1 and "put" or "get"
	elseif k == "getput" then
		k = math.random(1, 2) == 1 and "put" or "get"
	end
	if k == "list" then
		-- a cursor with at least 100 keys after it
		i = math.random(0, math.max(keys - 101, 0))
	elseif k == "children" then
		i = 0
	else
		i = math.random(0, keys - 1)
	end
	local slot = k .. i
	local req = cache[slot]
	if req == nil then
		req = build(k, i)
		cache[slot] = req
	end
	return req
end

-- A getput answer as the request must have it: a GET's value or a PUT's
-- write. (Responses do not say which request they answer: several
-- connections share a thread.)
local function checked(status, body)
	body = body or ""
	if status ~= 200 then
		return false
	end
	if string.sub(body, 1, 8) == '{"id":"k' then
		return #body == size
	end
	return string.sub(body, 1, 15) == '{"key":"bench.k' and
		string.find(body, '"versionstamp":"', 1, true) ~= nil
end

function response(status, headers, body)
	if status == 404 and mode == "missing" then
		n404 = n404 + 1
	elseif mode == "getput" and status < 300 and not checked(status, body) then
		bad = bad + 1
		if first_non2xx == "" then
			first_non2xx = status .. " " .. string.sub(body or "", 1, 200)
		end
	elseif status >= 300 then
		non2xx = non2xx + 1
		if first_non2xx == "" then
			-- The error body names the key; the raw request is not
			-- known here (several connections per thread).
			first_non2xx = status .. " " .. string.sub(body or "", 1, 200)
		end
	end
end

function done(summary, latency, requests)
	local n, m, b, first = 0, 0, 0, ""
	for _, t in ipairs(threads) do
		n = n + (t:get("non2xx") or 0)
		m = m + (t:get("n404") or 0)
		b = b + (t:get("bad") or 0)
		if first == "" then
			first = t:get("first_non2xx") or ""
		end
	end
	local e = summary.errors
	local errors = e.connect + e.read + e.write + e.timeout
	local secs = summary.duration / 1e6
	io.write(string.format(
		"RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d non2xx=%d n404=%d errors=%d bad=%d first_non2xx=%s\n",
		summary.requests, summary.duration, summary.requests / secs,
		latency:percentile(50.0), latency:percentile(99.0), latency.max, n, m, errors, b,
		(string.gsub(first, "%s+", "_"))))
end
