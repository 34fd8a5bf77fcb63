def total(items)
  items.sum
end

x = 1
warn "deprecated: Config#fetch_all will be removed (use Config#each)"
$stderr.puts "retrying in 2s"
puts total([1, 2, 3])
puts "done"
