-- A channel's record, or null. Read-only, so the answer is one consistent snapshot.
return cjson.encode(channelRecord(ARGV[1]))
