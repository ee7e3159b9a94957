#!/usr/bin/env node
// llama_peer.mjs: a real llama.cpp engine (node-llama-cpp, prebuilt CPU
// binary from npm) behind a minimal OpenAI-compatible server on 127.0.0.1,
// for the optional test of the local-llm provider against a real model.
//
//   node llama_peer.mjs MODEL.gguf      prints the port, serves until killed
//
// POST /v1/chat/completions  {model, messages, temperature, max_tokens,
//                             response_format: {type: "json_object"}}
//   -> {choices: [{message: {content}, finish_reason}], usage: {...}}
// JSON mode uses node-llama-cpp's JSON grammar, as llama.cpp's server does.
// Requests are served one at a time on one context sequence.
import http from "node:http";
import {getLlama, LlamaChatSession} from "node-llama-cpp";

const modelPath = process.argv[2];
if (!modelPath) {
    console.error("usage: llama_peer.mjs MODEL.gguf");
    process.exit(2);
}
const llama = await getLlama({gpu: false, build: "never", maxThreads: 2});
const model = await llama.loadModel({modelPath});
const context = await model.createContext({contextSize: 8192, batchSize: 1024, threads: 2});
const sequence = context.getSequence();
const jsonGrammar = await llama.getGrammarFor("json");
let busy = Promise.resolve();

function send(res, status, obj) {
    const body = JSON.stringify(obj);
    res.writeHead(status, {"Content-Type": "application/json",
                           "Content-Length": Buffer.byteLength(body)});
    res.end(body);
}

async function complete(req) {
    const msgs = req.messages;
    const system = msgs.filter(m => m.role === "system").map(m => m.content).join("\n");
    const user = msgs[msgs.length - 1].content;
    await sequence.clearHistory();
    const session = new LlamaChatSession({contextSequence: sequence, systemPrompt: system});
    const maxTokens = Number.isInteger(req.max_tokens) ? req.max_tokens : 256;
    const json = req.response_format && req.response_format.type === "json_object";
    const meta = await session.promptWithMeta(user, {
        maxTokens, temperature: req.temperature ?? 0,
        ...(json ? {grammar: jsonGrammar} : {})});
    const text = meta.responseText;
    session.dispose({disposeSequence: false});
    const promptTokens = model.tokenize(system + "\n" + user).length;
    const completionTokens = model.tokenize(text).length;
    return {
        id: "chatcmpl-llama", object: "chat.completion",
        created: Math.floor(Date.now() / 1000), model: req.model,
        choices: [{index: 0, message: {role: "assistant", content: text},
                   finish_reason: meta.stopReason === "maxTokens" ? "length" : "stop"}],
        usage: {prompt_tokens: promptTokens, completion_tokens: completionTokens,
                total_tokens: promptTokens + completionTokens}};
}

const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/health")
        return send(res, 200, {status: "ok"});
    if (req.method !== "POST" || req.url !== "/v1/chat/completions")
        return send(res, 404, {error: {message: "not found"}});
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", c => { raw += c; });
    req.on("end", () => {
        let body;
        try {
            body = JSON.parse(raw);
        } catch (e) {
            return send(res, 400, {error: {message: "body is not JSON"}});
        }
        if (!Array.isArray(body.messages) || !body.messages.length)
            return send(res, 400, {error: {message: "messages required"}});
        busy = busy.then(() => complete(body))
            .then(out => send(res, 200, out))
            .catch(e => send(res, 500, {error: {message: String(e)}}));
    });
});
server.listen(0, "127.0.0.1", () => {
    process.stdout.write(server.address().port + "\n");
});
