-- POST /api/v1/assistants with a realistic body: a transfer_call tool with two destinations and an
-- end_call tool, as in the seed's "complete transfer setup" example. The Authorization header
-- comes from the wrk command line (-H).
dofile(os.getenv("TL_BENCH_LUA_DIR") .. "/report.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"name":"Bench Assistant","first_message":"Welcome to Acme support, how can I help you?",]] ..
    [["llm_config":{"provider":"openai","model":"gpt-4o-mini","messages":[{"role":"system",]] ..
    [["content":"You are a support agent for Acme. Transfer only if the customer asks for a human."}],]] ..
    [["tools":[{"type":"transfer_call","destinations":[{"type":"number","number":"+31612345678",]] ..
    [["description":"Human support for complex issues","message":"One moment, please."},]] ..
    [[{"type":"number","number":"+31687654321","description":"Sales team, for pricing and quotes"}]},]] ..
    [[{"type":"end_call"}]}}]]
