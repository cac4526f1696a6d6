-- wrk script: article reads drawn from a Zipf law over a list of slugs.
--
--   wrk -s bench/zipf.lua http://HOST:PORT/api/v1/articles/ -- SLUG_FILE [S] [SEED] [fixed]
--
-- SLUG_FILE holds one slug a line, the most read first (rank 1): bench/run.sh
-- writes every published article there, newest first. Rank k is drawn with
-- probability proportional to 1/k^S (S defaults to 1) and the request is
-- GET <the URL's path><slug>. Every wrk thread reads the file in its own Lua
-- state (init), builds the cumulative table once and, for each request,
-- finds the rank by binary search on a uniform draw. Thread i seeds its
-- generator with SEED + i (SEED defaults to 1), so the threads draw
-- different, but repeatable, sequences.
--
-- With "fixed" as the fourth argument, every request still draws a rank and
-- builds its path, but is sent to the URL's own path: pointed at the ceiling
-- (GET /), this measures what the drawing costs wrk itself.

local threads = {}

-- Main Lua state: number the threads before they start.
function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

-- Each thread's own state, from here on.
local slugs, cumulative, n, prefix, fixed
local floor, random = math.floor, math.random
requests_made, distinct, top10, top1000 = 0, 0, 0, 0
local seen = {}

function init(args)
   local path = args[1] or error("usage: wrk -s zipf.lua URL -- SLUG_FILE [S] [SEED] [fixed]")
   local s = tonumber(args[2] or "1")
   local seed = tonumber(args[3] or "1") + (thread_number or 0)
   slugs = {}
   for line in io.lines(path) do
      if line ~= "" then
         slugs[#slugs + 1] = line
      end
   end
   n = #slugs
   if n == 0 then
      error(path .. " holds no slugs")
   end
   cumulative = {}
   local total = 0
   for k = 1, n do
      total = total + k ^ -s
      cumulative[k] = total
   end
   for k = 1, n do
      cumulative[k] = cumulative[k] / total
   end
   cumulative[n] = 1
   math.randomseed(seed)
   fixed = args[4] == "fixed"
   prefix = wrk.path
   if prefix:sub(-1) ~= "/" then
      prefix = prefix .. "/"
   end
   slugs_loaded, zipf_s, rng_seed = n, s, seed
end

local function rank()
   -- The smallest k with cumulative[k] >= u.
   local u = random()
   local lo, hi = 1, n
   while lo < hi do
      local mid = floor((lo + hi) / 2)
      if cumulative[mid] < u then
         lo = mid + 1
      else
         hi = mid
      end
   end
   return lo
end

function request()
   local k = rank()
   requests_made = requests_made + 1
   if k <= 10 then
      top10 = top10 + 1
   end
   if k <= 1000 then
      top1000 = top1000 + 1
   end
   if not seen[k] then
      seen[k] = true
      distinct = distinct + 1
   end
   local path = prefix .. slugs[k]
   if fixed then
      path = wrk.path
   end
   return wrk.format("GET", path)
end

-- Main state again: what each thread loaded and drew.
function done(summary, latency, requests)
   for i, thread in ipairs(threads) do
      local made = thread:get("requests_made") or 0
      local share = function(count)
         return made > 0 and string.format("%.1f%%", 100 * count / made) or "-"
      end
      io.write(string.format(
         "zipf thread %d: %s slugs loaded, s=%s, seed %s; %d requests drawn, %d distinct articles, top 10 ranks %s, top 1000 ranks %s\n",
         i, tostring(thread:get("slugs_loaded")), tostring(thread:get("zipf_s")),
         tostring(thread:get("rng_seed")), made, thread:get("distinct") or 0,
         share(thread:get("top10") or 0), share(thread:get("top1000") or 0)))
   end
end
