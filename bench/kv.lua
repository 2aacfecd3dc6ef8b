-- bench/kv.lua: the wrk script of bench/run
--
--   wrk --latency -s bench/kv.lua http://127.0.0.1:PORT -- MODE KEYS VALUE_BYTES
--
--   MODE get   GET /kv/bench.kNNNNN of a key drawn at random among KEYS
--        put   PUT /kv/bench.kNNNNN of a random key; the body is
--              {"value": V} where V is VALUE_BYTES of JSON (bench_value below)
--
-- Keys are bench.k00000 .. bench.k(KEYS-1); bench/run seeds them all first
-- with the same values, so a GET always finds its key and a PUT overwrites
-- one. Requests are built once per key and reused. Every response with a
-- status >= 300 is counted, and done() prints one machine-readable line:
--
--   RESULT requests=N duration_us=N rps=N p50_us=N p99_us=N non2xx=N
--          errors=N first_non2xx=STATUS_BODY
--
-- (errors: wrk's socket connect/read/write errors and timeouts).

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

local mode, keys, size
local cache = {}

-- Per-thread state read by done() through thread:get().
non2xx = 0
first_non2xx = ""

function init(args)
	mode = args[1] or "get"
	keys = tonumber(args[2] or "10000")
	size = tonumber(args[3] or "1024")
	if mode ~= "get" and mode ~= "put" then
		error("bench/kv.lua: unknown mode " .. mode)
	end
	-- Overriding init drops wrk's default one, which sets Host.
	if wrk.headers["Host"] == nil then
		wrk.headers["Host"] = wrk.host .. (wrk.port and (":" .. wrk.port) or "")
	end
	math.randomseed(os.time() * 7919 + (id or 0) * 104729)
end

function request()
	local i = math.random(0, keys - 1)
	local req = cache[i]
	if req == nil then
		local path = string.format("/kv/bench.k%05d", i)
		if mode == "get" then
			req = wrk.format("GET", path)
		else
			req = wrk.format("PUT", path,
				{ ["Content-Type"] = "application/json" },
				'{"value":' .. bench_value(i, size) .. '}')
		end
		cache[i] = req
	end
	return req
end

function response(status, headers, body)
	if status >= 300 then
		non2xx = non2xx + 1
		if first_non2xx == "" then
			-- The error body names the key; the raw request is not
			-- known here (several connections per thread).
			first_non2xx = status .. " " .. string.sub(body or "", 1, 200)
		end
	end
end

function done(summary, latency, requests)
	local n, first = 0, ""
	for _, t in ipairs(threads) do
		n = n + (t:get("non2xx") or 0)
		if first == "" then
			first = t:get("first_non2xx") or ""
		end
	end
	local e = summary.errors
	local errors = e.connect + e.read + e.write + e.timeout
	local secs = summary.duration / 1e6
	io.write(string.format(
		"RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d errors=%d first_non2xx=%s\n",
		summary.requests, summary.duration, summary.requests / secs,
		latency:percentile(50.0), latency:percentile(99.0), n, errors,
		(string.gsub(first, "%s+", "_"))))
end
