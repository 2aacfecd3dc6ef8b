-- bench/compare.d/wrk.lua: bench/compare's wrk script for the systems
-- that do not speak kv's API (kv and kv.php get bench/kv.lua)
--
--   wrk --latency -s bench/compare.d/wrk.lua URL -- MODE KEYS VALUE_BYTES
--
--   MODE etcd-get    POST /v3/kv/range of a random key (etcd's HTTP/JSON
--                    gateway: keys and values in base64)
--        etcd-put    POST /v3/kv/put of a random key, VALUE_BYTES of JSON
--        etcd-list   POST /v3/kv/range of the 100 keys from a random one
--                    up to the end of bench.
--        webdis-get  GET /GET/bench%2ekNNNNN (webdis reads a "." as the
--                    answer's format, so the key's is escaped)
--        webdis-put  PUT /SET/bench%2ekNNNNN, the value as the body
--        webdis-list GET /MGET/ of the 100 keys from a random one
--
-- Keys and values are bench/kv.lua's: bench.k00000 .. bench.k(KEYS-1),
-- seeded before the run, and {"id":"kNNNNN","pad":"xxx..."} of exactly
-- VALUE_BYTES bytes. Both systems answer 200 for an absent key, where kv
-- answers 404: an answer of a GET or a list without the values (etcd's
-- without "kvs", webdis's with a null) counts in bad. done() prints the
-- RESULT line of bench/kv.lua.

local threads = {}

function setup(thread)
	thread:set("id", #threads)
	table.insert(threads, thread)
end

local function bench_value(i, size)
	local head = string.format('{"id":"k%05d","pad":"', i)
	return head .. string.rep("x", math.max(size - #head - 2, 0)) .. '"}'
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- Standard base64 with padding, as etcd's gateway reads bytes fields.
local function base64(text)
	local out = {}
	for p = 1, #text, 3 do
		local a, b, c = string.byte(text, p, p + 2)
		local n = a * 65536 + (b or 0) * 256 + (c or 0)
		local s = ""
		for k = 3, 0, -1 do
			local d = math.floor(n / 64 ^ k) % 64
			s = s .. string.sub(b64chars, d + 1, d + 1)
		end
		if c == nil then
			s = string.sub(s, 1, b == nil and 2 or 3) .. (b == nil and "==" or "=")
		end
		out[#out + 1] = s
	end
	return table.concat(out)
end

local mode, keys, size
local cache = {}
local modes = { ["etcd-get"] = true, ["etcd-put"] = true, ["etcd-list"] = true,
	["webdis-get"] = true, ["webdis-put"] = true, ["webdis-list"] = true }

non2xx = 0
bad = 0
first_non2xx = ""

function init(args)
	mode = args[1] or "etcd-get"
	keys = tonumber(args[2] or "10000")
	size = tonumber(args[3] or "1024")
	if not modes[mode] then
		error("bench/compare.d/wrk.lua: unknown mode " .. mode)
	end
	if wrk.headers["Host"] == nil then
		wrk.headers["Host"] = wrk.host .. (wrk.port and (":" .. wrk.port) or "")
	end
	math.randomseed(os.time() * 7919 + (id or 0) * 104729)
end

local function key(i)
	return string.format("bench.k%05d", i)
end

local function webdis_key(i)
	return string.format("bench%%2ek%05d", i)
end

local json = { ["Content-Type"] = "application/json" }

local function build(i)
	if mode == "etcd-get" then
		return wrk.format("POST", "/v3/kv/range", json,
			'{"key":"' .. base64(key(i)) .. '"}')
	elseif mode == "etcd-put" then
		return wrk.format("POST", "/v3/kv/put", json,
			'{"key":"' .. base64(key(i)) .. '","value":"' .. base64(bench_value(i, size)) .. '"}')
	elseif mode == "etcd-list" then
		-- "bench/" is the first key after every "bench.…".
		return wrk.format("POST", "/v3/kv/range", json,
			'{"key":"' .. base64(key(i)) .. '","range_end":"' .. base64("bench/") .. '","limit":100}')
	elseif mode == "webdis-get" then
		return wrk.format("GET", "/GET/" .. webdis_key(i))
	elseif mode == "webdis-put" then
		return wrk.format("PUT", "/SET/" .. webdis_key(i), nil, bench_value(i, size))
	else
		local names = {}
		for k = i, i + 99 do
			names[#names + 1] = webdis_key(k)
		end
		return wrk.format("GET", "/MGET/" .. table.concat(names, "/"))
	end
end

function request()
	local i
	if mode == "etcd-list" or mode == "webdis-list" then
		-- a first key with at least 100 keys from it on
		i = math.random(0, math.max(keys - 100, 0))
	else
		i = math.random(0, keys - 1)
	end
	local req = cache[i]
	if req == nil then
		req = build(i)
		cache[i] = req
	end
	return req
end

-- An answer of a read without the values it asked for.
local function missing(body)
	body = body or ""
	if mode == "etcd-get" or mode == "etcd-list" then
		return string.find(body, '"kvs":', 1, true) == nil
	elseif mode == "webdis-get" or mode == "webdis-list" then
		return string.find(body, "null", 1, true) ~= nil
	end
	return false
end

function response(status, headers, body)
	if status >= 300 then
		non2xx = non2xx + 1
	elseif missing(body) then
		bad = bad + 1
	else
		return
	end
	if first_non2xx == "" then
		first_non2xx = status .. " " .. string.sub(body or "", 1, 200)
	end
end

function done(summary, latency, requests)
	local n, b, first = 0, 0, ""
	for _, t in ipairs(threads) do
		n = n + (t:get("non2xx") or 0)
		b = b + (t:get("bad") or 0)
		if first == "" then
			first = t:get("first_non2xx") or ""
		end
	end
	local e = summary.errors
	local errors = e.connect + e.read + e.write + e.timeout
	local secs = summary.duration / 1e6
	io.write(string.format(
		"RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d non2xx=%d n404=0 errors=%d bad=%d first_non2xx=%s\n",
		summary.requests, summary.duration, summary.requests / secs,
		latency:percentile(50.0), latency:percentile(99.0), latency.max, n, errors, b,
		(string.gsub(first, "%s+", "_"))))
end
