import sys

def handler(request):
    if request.method == "GET"
        return "ok"
    return "no"
