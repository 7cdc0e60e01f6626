-- One channel's record, or null.
return cjson.encode(channelRecord(ARGV[1]))
