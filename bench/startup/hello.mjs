// The start-up bench's app: a hello-world that logs one line.
console.log('hello');
