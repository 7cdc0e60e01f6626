-- Channel ARGV[1]'s mask lists (+b +e +I +q), read together: each its JSON entries, oldest first.
return cjson.encode(maskLists(ARGV[1]))
