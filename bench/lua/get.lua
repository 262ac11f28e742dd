-- GET scenarios: the URL and headers come from the wrk command line; only the report is added.
dofile(os.getenv("TL_BENCH_LUA_DIR") .. "/report.lua")
