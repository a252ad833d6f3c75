# Warnings for aio's own targets (never forced on a consumer).
function(aio_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual)
  if(AIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
