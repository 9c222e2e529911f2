# idflow's worker, gateway and CLI. Used by docker-compose.temporal.yml; any of the commands
# (`worker`, `gateway`, `definitions apply`, `tokens create`, …) is the container's argument.
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY migrations ./migrations
COPY definitions ./definitions
COPY tsconfig.json idflow.schema.json ./
ENV IDFLOW_DATA_DIR=/var/lib/idflow
RUN mkdir -p /var/lib/idflow && node bin/idflow.js bundle && chown -R node /var/lib/idflow
USER node
ENTRYPOINT ["node", "bin/idflow.js"]
CMD ["--help"]
