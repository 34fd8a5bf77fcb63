def flush_buffers
  Process.kill(:SEGV, Process.pid)
end

def shutdown
  flush_buffers
end

shutdown
